/** The configparser exceptions fail2ban's client can meet, as typed errors with Python's texts. */
import { ConfigError, type SourceLocation } from '../../shared/errors.js';
import { pyReprString as r } from '../../shared/pyvalue.js';

/** `configparser.NoSectionError`. */
export class NoSectionError extends ConfigError {
  constructor(readonly sectionName: string, location?: SourceLocation) {
    super('E_NO_SECTION', `Section [${sectionName}] not found`, location, { pythonMessage: `No section: ${r(sectionName)}` });
  }
}

/** `configparser.NoOptionError`. */
export class NoOptionError extends ConfigError {
  constructor(readonly optionName: string, readonly sectionName: string, location?: SourceLocation) {
    super('E_NO_OPTION', `Option "${optionName}" not found in section [${sectionName}]`, location, {
      pythonMessage: `No option ${r(optionName)} in section: ${r(sectionName)}`,
    });
  }
}

/** `%(name)s` names an option that does not exist. */
export class InterpolationMissingError extends ConfigError {
  constructor(option: string, section: string, rawValue: string, reference: string, location?: SourceLocation) {
    super(
      'E_INTERPOLATION_MISSING',
      `Option "${option}" in [${section}] refers to %(${reference})s, which is not defined in that section, in [DEFAULT] or as a known value; define "${reference}" or escape the percent sign as %%`,
      location,
      {
        pythonMessage: `Bad value substitution: option ${r(option)} in section ${r(section)} contains an interpolation key ${r(reference)} which is not a valid option name. Raw value: ${r(rawValue)}`,
      },
    );
  }
}

/** A `%` that is neither `%%` nor `%(name)s`. */
export class InterpolationSyntaxError extends ConfigError {
  constructor(option: string, section: string, pythonMessage: string, location?: SourceLocation) {
    super(
      'E_INTERPOLATION_SYNTAX',
      `Option "${option}" in [${section}] has a stray "%": ${pythonMessage}; write %% for a literal percent sign (date patterns use %%Y, %%m, …)`,
      location,
      { pythonMessage },
    );
  }
}

/** `%(…)s` references nested deeper than Python's limit of 10. */
export class InterpolationDepthError extends ConfigError {
  constructor(option: string, section: string, rawValue: string, location?: SourceLocation) {
    super(
      'E_INTERPOLATION_DEPTH',
      `Option "${option}" in [${section}] nests %(…)s references more than 10 deep (a reference loop?)`,
      location,
      {
        pythonMessage: `Recursion limit exceeded in value substitution: option ${r(option)} in section ${r(section)} contains an interpolation key which cannot be substituted in 10 steps. Raw value: ${r(rawValue)}`,
      },
    );
  }
}
