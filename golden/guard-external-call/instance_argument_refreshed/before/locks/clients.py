class LockAPI:
    def book(self, lock_id, room):
        raise NotImplementedError


lock_api = LockAPI()
