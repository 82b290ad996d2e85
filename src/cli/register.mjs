// Lets plain `node` run the TypeScript sources: `node --import ./src/cli/register.mjs bench/x.ts`.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./wgsl-hook.mjs', import.meta.url);
registerTsx();
