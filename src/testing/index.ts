export { MemoryFileSystem } from './memoryFs.js';
