/**
 * `fail2ban-server` and `fail2ban-regex` launchers: their help and version work; the rest comes
 * with the filter engine and the daemon, and until then they say so and fail (never pretend).
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

export function runFail2banRegex(prog: string, args: readonly string[], io: CliIo): number {
  // Only the usage line so far; fail2ban-regex's full help comes with the filter engine (issue 3).
  const usage = (): string => `Usage: ${prog} [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]\n`;
  // optparse prints "%prog <version>" for --version.
  return versionOrHelp(prog, args, io, usage, `${prog} ${FAIL2BAN_VERSION}`) ?? 255;
}
