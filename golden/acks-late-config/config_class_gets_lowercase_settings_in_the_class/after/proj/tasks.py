from proj.worker import app


@app.task
def transcode_video(video_id):
    return video_id
