import { beforeEach } from 'vitest';
import { debug } from '../../src/backend/backends.ts';
import { restartStream } from './random.ts';

// Every output buffer starts as NaN, so an element a kernel fails to write fails its test.
debug.poison = true;

// Each test draws from its own stream of the run seed, so it sees the same inputs when run alone.
beforeEach(() => restartStream());
