class LockClient:
    def create_booking(self, lock, room):
        raise NotImplementedError


lock_client = LockClient()
