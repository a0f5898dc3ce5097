#!/usr/bin/python3
"""hostile_session — stands in for cscd-session in test_session.py, as a
session taken over by its peer would: cscd runs it as the peer, with the
client's socket on fd 3 and the monitor's on fd 4. It reads one JSON line
from the client saying what to send the monitor, sends it, and copies what
the monitor answers back to the client until the monitor closes.

The line: {"steps": [{"send": BASE64} | {"wait_for": FRAME_TYPE}, ...]}."""
import base64, json, os, struct

CLIENT, MON = 3, 4


def read_line():
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = os.read(CLIENT, 1)
        if not chunk:
            os._exit(0)
        buf += chunk
    return json.loads(buf)


def relay_until(want):
    """Copies monitor bytes to the client; with want, stops after a frame of that type."""
    buf = b""
    while True:
        chunk = os.read(MON, 65536)
        if not chunk:
            return False
        os.write(CLIENT, chunk)
        if want is None:
            continue
        buf += chunk
        while len(buf) >= 4:
            (n,) = struct.unpack(">I", buf[:4])
            if len(buf) < 4 + n:
                break
            frame, buf = json.loads(buf[4:4 + n]), buf[4 + n:]
            if frame.get("type") == want:
                return True


def main():
    try:
        os.close(5)
    except OSError:
        pass
    spec = read_line()
    for step in spec["steps"]:
        if "send" in step:
            os.write(MON, base64.b64decode(step["send"]))
        elif not relay_until(step["wait_for"]):
            break
    relay_until(None)


main()
