/**
 * The `fail2ban-server` launcher: its help and version work; the rest comes with the daemon, and
 * until then it says so and fails (never pretends).
 */
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { fail2banUsage } from './clientHelp.js';
import type { CliIo } from './io.js';

function versionOrHelp(prog: string, args: readonly string[], io: CliIo, usage: () => string, longVersion: string): number | undefined {
  for (const a of args) {
    if (a === '-h' || a === '--help') {
      io.stdout(usage());
      return 0;
    }
    if (a === '-V') {
      io.stdout(`${FAIL2BAN_VERSION}\n`);
      return 0;
    }
    if (a === '--version') {
      io.stdout(`${longVersion}\n`);
      return 0;
    }
  }
  io.stderr(`${prog}: not available yet in this version of portcullis (only -h, -V and --version work)\n`);
  return undefined;
}

export function runFail2banServer(prog: string, args: readonly string[], io: CliIo): number {
  return versionOrHelp(prog, args, io, () => fail2banUsage(prog), `Fail2Ban v${FAIL2BAN_VERSION}`) ?? 255;
}
