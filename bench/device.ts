// The one entry the lent-GPU kit bundles (bench/device-run.sh pack → ../shared/device/pack.sh):
//   node .devicekit/entry.mjs bench [npm run bench options]   — bench/run.ts
//   node .devicekit/entry.mjs kernels [fer kernels options]    — the kernel table
// Each command is its own process (bench/run.ts ends the process when it is done).
export {};
const [command, ...rest] = process.argv.slice(2);
process.argv.splice(2, process.argv.length - 2, ...rest);
if (command === 'bench') {
  await import('./run.ts');
} else if (command === 'kernels') {
  const { kernelsCommand } = await import('../src/cli/kernels.ts');
  await kernelsCommand(rest);
  process.exit(0);
} else {
  console.error('usage: entry.mjs bench|kernels [options]');
  process.exit(2);
}
