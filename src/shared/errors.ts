/**
 * Typed errors with stable codes and a cause chain.
 * Expected outcomes (a line that does not match, an option that is absent) are values, not exceptions.
 */

/** Where a problem was found: the file, the 1-based line, and the jail it concerns when known. */
export interface SourceLocation {
  readonly file: string;
  readonly line?: number;
  readonly jail?: string;
  readonly section?: string;
  readonly option?: string;
}

/** Base class of every error portcullis throws on purpose. */
export class PortcullisError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A problem in the configuration, located to file and line where possible. */
export class ConfigError extends PortcullisError {
  readonly location: SourceLocation | undefined;
  /** The error text fail2ban itself would print for this problem, where it differs from `message`. */
  readonly pythonMessage: string;

  constructor(
    code: string,
    message: string,
    location?: SourceLocation,
    options?: { cause?: unknown; pythonMessage?: string },
  ) {
    super(code, message, options);
    this.location = location;
    this.pythonMessage = options?.pythonMessage ?? message;
  }
}

/** Renders a location as `file:line (jail "x")`, omitting what is unknown. */
export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  let text = loc.file;
  if (loc.line !== undefined) text += `:${loc.line}`;
  const where: string[] = [];
  if (loc.jail !== undefined) where.push(`jail "${loc.jail}"`);
  else if (loc.section !== undefined) where.push(`section [${loc.section}]`);
  if (loc.option !== undefined) where.push(`option "${loc.option}"`);
  if (where.length > 0) text += ` (${where.join(', ')})`;
  return text;
}

/** The message of anything thrown, for logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
