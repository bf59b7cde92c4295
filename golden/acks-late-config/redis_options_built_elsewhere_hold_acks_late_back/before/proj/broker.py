TRANSPORT_OPTIONS = {"socket_timeout": 5}
