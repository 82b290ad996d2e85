#!/usr/bin/env node
// The `fer` command: registers the TypeScript and .wgsl loaders, then runs the CLI.
import './register.mjs';

await import('./main.ts');
