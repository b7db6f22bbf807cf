/** Typed errors of date templates and date parsing, carrying the Python exception fail2ban raises. */
import { PortcullisError } from '../shared/errors.js';

/** A Python exception as fail2ban would raise it: its class name and `str(exception)`. */
export interface PythonException {
  readonly pythonClass: string;
  readonly pythonMessage: string;
}

/** A `datepattern` value fail2ban rejects (code `E_DATEPATTERN`). */
export class DatePatternError extends PortcullisError implements PythonException {
  readonly pythonClass: string;
  readonly pythonMessage: string;

  constructor(pythonClass: string, message: string) {
    super('E_DATEPATTERN', message);
    this.pythonClass = pythonClass;
    this.pythonMessage = message;
  }
}

/** A date that cannot be built from the matched groups (code `E_DATEPARSE`): fail2ban finds no time. */
export class DateParseError extends PortcullisError implements PythonException {
  readonly pythonClass: string;
  readonly pythonMessage: string;

  constructor(pythonClass: string, message: string) {
    super('E_DATEPARSE', message);
    this.pythonClass = pythonClass;
    this.pythonMessage = message;
  }
}

/** A `logtimezone` value fail2ban rejects (code `E_TIMEZONE`), "Unknown or unsupported time zone: …". */
export class TimeZoneError extends PortcullisError implements PythonException {
  readonly pythonClass: string;
  readonly pythonMessage: string;

  constructor(pythonClass: string, message: string) {
    super('E_TIMEZONE', message);
    this.pythonClass = pythonClass;
    this.pythonMessage = message;
  }
}

/** Thrown by the `%`-format emulation; converted by callers into their own error. */
export class PyFormatError extends Error {
  constructor(
    readonly pythonClass: string,
    message: string,
  ) {
    super(message);
    this.name = 'PyFormatError';
  }
}
