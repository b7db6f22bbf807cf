export { MemoryFileSystem } from './memoryFs.js';
export { MemoryLog, type LogRecord } from './memoryLog.js';
