#!/usr/bin/python3
"""In-process configuration resolve with the real fail2ban (no interpreter start-up).

Usage: /usr/bin/python3 bench/config-resolve.py CONFDIR [ITERATIONS] [--lockstep]

Each iteration builds a fresh Configurator and does what `fail2ban-client -d`
does in readConfig(): readAll(), getOptions(), convertToProtocol(), getConfigStream().
Prints one JSON line: {"impl", "times_ms": [...], "commands": N}.
The first iteration is "cold" (the modules are imported beforehand, but caches
such as compiled regexes are empty); later ones are warm.
With --lockstep, it prints "ready" once imported, then each iteration waits for
a line on stdin and prints its time (ms) on a line of its own, so a harness can
interleave it with another implementation iteration by iteration.
"""
import json
import logging
import sys
import time

try:
	from fail2ban.client.configurator import Configurator
except ImportError:  # a python3 other than Debian's /usr/bin/python3
	sys.path.append("/usr/lib/python3/dist-packages")
	from fail2ban.client.configurator import Configurator


def main():
	args = [a for a in sys.argv[1:] if a != "--lockstep"]
	lockstep = "--lockstep" in sys.argv[1:]
	confdir = args[0]
	iterations = int(args[1]) if len(args) > 1 else 15
	# fail2ban warns (e.g. "'allowipv6' not defined") on every load: keep it quiet.
	logging.disable(logging.CRITICAL)
	times = []
	commands = None
	if lockstep:
		print("ready", flush=True)
	for _ in range(iterations):
		if lockstep and not sys.stdin.readline():
			raise SystemExit("stdin closed early")
		t0 = time.perf_counter()
		c = Configurator()
		c.setBaseDir(confdir)
		c.readAll()
		c.getOptions(None, {}, ignoreWrong=True)
		c.convertToProtocol(allow_no_files=True)
		stream = c.getConfigStream()
		t1 = time.perf_counter()
		times.append((t1 - t0) * 1000.0)
		if lockstep:
			print(times[-1], flush=True)
		if commands is None:
			commands = len(stream)
		elif commands != len(stream):
			raise SystemExit("stream length changed between iterations: %d != %d" % (commands, len(stream)))
	if not commands:
		raise SystemExit("empty configuration stream")
	print(json.dumps({"impl": "fail2ban", "times_ms": times, "commands": commands}))


if __name__ == "__main__":
	main()
