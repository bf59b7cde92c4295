def move_message(uid):
    return uid
