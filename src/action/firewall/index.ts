/** The native firewall backends behind one interface (`Firewall`), and what they are built from. */
export { FirewallError, type Firewall, type FirewallEntry } from './firewall.js';
export { NftSession, packLines, elementsOfJson, handlesInChain, setsInTable, type NftSessionOptions } from './nftSession.js';
export { NftFirewall, nftSpecError, stockNftSpec, type NftFamilySpec, type NftRuleType, type NftSpec } from './nftables.js';
export { NullFirewall } from './null.js';
export { IpsetFirewall } from './ipset.js';
export { IptablesFirewall } from './iptables.js';
export { IpsetSession, type IpsetSessionOptions } from './ipsetSession.js';
export { XtablesRunner, toolError, type XtablesRunnerOptions } from './restoreSession.js';
export { stockXtablesSpec, xtablesSpecError, chainRules, type XtablesSpec, type XtFamilySpec, type IptRuleType } from './xtablesSpec.js';
export { recogniseBanCommands, simpleWords, type NativeTarget } from './recognise.js';
export { NativeBackendPool } from './backends.js';
