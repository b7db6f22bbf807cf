/** The native firewall backends behind one interface (`Firewall`), and what they are built from. */
export { FirewallError, type Firewall, type FirewallEntry } from './firewall.js';
export { NftSession, packLines, elementsOfJson, handlesInChain, setsInTable, type NftSessionOptions } from './nftSession.js';
export { NftFirewall, nftSpecError, stockNftSpec, type NftFamilySpec, type NftRuleType, type NftSpec } from './nftables.js';
export { NullFirewall } from './null.js';
