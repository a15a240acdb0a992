// Plain JavaScript on purpose: it runs before any TypeScript, on whatever Node the user has.
// npm scripts that run .ts files start with `node scripts/node-check.mjs &&`, so an old Node
// names the version needed instead of failing with "node: bad option: --experimental-strip-types".
const REQUIRED = [22, 12];
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  console.error(
    [
      `Dateline needs Node.js ${REQUIRED.join('.')} or later; this is Node.js ${process.versions.node} (${process.execPath}).`,
      'It runs its TypeScript directly (node --experimental-strip-types), which older versions cannot do.',
      '',
      'Install the current LTS, Node.js 24, from https://nodejs.org/en/download',
      'or with a version manager: nvm install 24 && nvm use 24 (or: fnm use --install-if-missing 24, volta install node@24),',
      'then run the command again.',
    ].join('\n'),
  );
  process.exit(1);
}
