export type { FileSystem, FileStat } from './fs.js';
export { NodeFileSystem } from './nodeFs.js';
export type { Clock } from './clock.js';
export { SystemClock } from './clock.js';
export { LEVEL, NULL_LOG, type LevelName, type ServerLog } from './log.js';
