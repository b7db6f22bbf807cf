export * from './errors.js';
export * from './pyvalue.js';
export * from './pprint.js';
export * from './duration.js';
export { evaluateArithmetic } from './arith.js';
export * from './logline.js';
export * from './version.js';
export * from './ip.js';
