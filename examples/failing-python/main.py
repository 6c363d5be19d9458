import json


def load_settings(text):
    return json.loads(text)


def port_of(settings):
    return settings["server"]["port"]


settings = load_settings('{"server": {"host": "localhost"}}')
print("settings loaded, looking up the port...")
print("port:", port_of(settings))
