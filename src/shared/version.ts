/** The fail2ban release whose behaviour, texts and `%(fail2ban_version)s` portcullis reproduces. */
export const FAIL2BAN_VERSION = '1.0.2';

/** portcullis' own version. */
export const PORTCULLIS_VERSION = '0.1.0';
