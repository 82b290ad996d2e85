import { debug } from '../../src/backend/backends.ts';

// Every output buffer starts as NaN, so an element a kernel fails to write fails its test.
debug.poison = true;
