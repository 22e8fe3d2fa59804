#!/usr/bin/env python3
"""drive.py - `make shell` driven by a program, as a person would, on a pty.

Usage: [RIG_HOST=K] tests/shell/drive.py

Waits for the rig host's banner and prompt, runs `torpor --version`, stops a
`sleep` with Ctrl-C (the shell has the console as its controlling terminal),
boots the guest with the banner's own `torpor run` line (Ctrl-C there too),
leaves a shell variable and a
file on its disk, hibernates it from its console (`echo mem >
/sys/power/state`: exit 7), runs `torpor inspect vm.img`, restores it and
finds the variable and the file again, quits torpor with Ctrl-A x (QEMU must
let Ctrl-A through), checks `torpor ctl vm.sock status` and `hibernate`
(exit 7) on a guest run in the background, leaves the host with `exit` and expects make to end with status 0;
then a second `make shell`, left with QEMU's escape Ctrl-] x.
Prints one line per step and "N passed, N failed" (scripts/check.sh counts
them); the sessions go to build/shell-drive.log. Exit status 0 iff every step
passed. Two rig boots: about 20 s on an idle machine, more if another rig run
holds the lock (it waits).
"""
import os
import pty
import re
import select
import signal
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOG = os.path.join(ROOT, "build", "shell-drive.log")
HOST_PROMPT = "host:/tmp/rig/shell$ "
GUEST_PROMPT = "guest:/# "


class Drive:
    def __init__(self):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            # The child's terminal: a size, as a person's would have.
            import fcntl
            import struct
            import termios
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 200, 0, 0))
            os.chdir(ROOT)
            # A make of its own, not a sub-make of one that runs this drive
            # (make check's jobserver).
            os.environ.pop("MAKEFLAGS", None)
            os.environ.pop("MFLAGS", None)
            os.execvp("make", ["make", "shell"])
        self.buf = ""
        self.log = open(LOG, "a")
        self.t0 = time.monotonic()

    def send(self, text):
        os.write(self.fd, text.encode())

    def expect(self, pattern, timeout):
        """Waits for pattern (a regex) in the output since the last match;
        returns the match, or fails the drive."""
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                self.fail(f"no {pattern!r} in {timeout} s")
            r, _, _ = select.select([self.fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(self.fd, 4096).decode(errors="replace")
            except OSError:
                data = ""
            if not data:
                self.fail(f"the session ended before {pattern!r}")
            self.log.write(data)
            self.log.flush()
            self.buf += data.replace("\r", "")

    def step(self, what):
        global passed
        passed += 1
        print(f"drive: ok   {what} ({time.monotonic() - self.t0:.0f} s)", flush=True)

    def fail(self, why):
        print(f"drive: FAIL {why}; last output:", flush=True)
        for line in self.buf.splitlines()[-20:]:
            print(f"drive:   {line}")
        print(f"drive: the session is in {LOG}")
        print(f"{passed} passed, 1 failed")
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        sys.exit(1)


passed = 0


def main():
    open(LOG, "w").close()
    d = Drive()
    d.expect(r"=== torpor shell: ", 900)
    run = d.expect(r"\n  (torpor run [^\n]*)\n", 10).group(1)
    d.expect(re.escape(HOST_PROMPT), 30)
    d.step("banner and host prompt")

    d.send("torpor --version\r")
    v = d.expect(r"\ntorpor [0-9][^\n]*", 20).group(0).strip()
    d.expect(re.escape(HOST_PROMPT), 20)
    d.step(v)

    d.send("sleep 60\r")
    time.sleep(1)
    d.send("\x03")
    d.expect(re.escape(HOST_PROMPT), 10)
    d.step("Ctrl-C stopped a sleep on the host")

    d.send(run + "\r")
    d.expect(r"guest: busybox sh", 180)
    d.expect(re.escape(GUEST_PROMPT), 30)
    d.step("guest booted, its shell prompt")

    d.send("sleep 60\r")
    time.sleep(1)
    d.send("\x03")
    d.expect(re.escape(GUEST_PROMPT), 10)
    d.step("Ctrl-C stopped a sleep in the guest")

    d.send("nap=before-the-sleep; echo on-disk >/data/note; sync\r")
    d.expect(re.escape(GUEST_PROMPT), 30)
    d.send("echo mem > /sys/power/state\r")
    d.expect(re.escape(HOST_PROMPT), 120)
    d.send("echo rc=$?\r")
    d.expect(r"rc=7\n", 20)
    d.expect(re.escape(HOST_PROMPT), 20)
    d.step("hibernated from the guest's console: torpor exited 7")

    d.send("torpor inspect vm.img\r")
    d.expect(re.escape(HOST_PROMPT), 60)
    d.step("torpor inspect vm.img")

    d.send("torpor restore vm.img\r")
    d.expect(re.escape(GUEST_PROMPT), 120)
    d.send("echo nap=$nap note=$(cat /data/note)\r")
    d.expect(r"nap=before-the-sleep note=on-disk\n", 30)
    d.expect(re.escape(GUEST_PROMPT), 30)
    d.step("restored: the shell's variable and the disk's file are there")

    d.send("\x01x")
    d.expect(re.escape(HOST_PROMPT), 60)
    d.step("Ctrl-A x quit torpor, the host's shell is back")

    d.send(run + " </dev/null >vm.log 2>&1 &\r")
    d.expect(re.escape(HOST_PROMPT), 20)
    d.send("sleep 2; torpor ctl vm.sock status\r")
    d.expect(r"state", 60)
    d.expect(re.escape(HOST_PROMPT), 30)
    # Its buttons come up a few seconds into its boot: until the driver
    # listens hibernate answers an error at once, and a key pressed before
    # its init reads them is lost (hibernate then times out): retry.
    d.send("for i in $(seq 20); do torpor ctl vm.sock hibernate --timeout 5 && break; sleep 1;"
           " done; wait $!; echo rc=$?\r")
    d.expect(r"checkpoint_s: [0-9.]+", 90)
    d.expect(r"rc=7\n", 60)
    d.expect(re.escape(HOST_PROMPT), 30)
    d.step("torpor ctl vm.sock status and hibernate on a guest in the background")

    d.send("exit\r")
    d.expect(r"reboot: Power down", 60)
    _, status = os.waitpid(d.pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        d.fail(f"make shell ended with wait status {status}")
    d.step("exit: the host powered off, make shell exited 0")

    d = Drive()
    d.expect(re.escape(HOST_PROMPT), 900)
    d.send("\x1dx")
    d.expect(r"QEMU: Terminated", 20)
    _, status = os.waitpid(d.pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        d.fail(f"make shell ended with wait status {status}")
    d.step("a second make shell, left with Ctrl-] x")
    print(f"{passed} passed, 0 failed")


main()
