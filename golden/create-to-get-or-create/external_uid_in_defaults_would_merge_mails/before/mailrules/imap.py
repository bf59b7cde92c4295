import imaplib


def unseen_uids(host, folder):
    box = imaplib.IMAP4_SSL(host)
    box.select(folder)
    _, data = box.uid("search", None, "UNSEEN")
    return [uid.decode() for uid in data[0].split()]
