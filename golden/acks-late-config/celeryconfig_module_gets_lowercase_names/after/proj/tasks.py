from proj.worker import app


@app.task
def archive_uploads():
    return "archived"
