// Bundle the front end modules into the one file anywidget loads (TokenEditor._esm).
//   node qtok_widgets/widgets/frontend/build.mjs           write qtok_widgets/widgets/editor.js
//   node qtok_widgets/widgets/frontend/build.mjs --check   exit 1 when the committed file differs
// from a fresh build (CI runs this so that a stale bundle fails). Run through `npm run build`
// and `npm run check`; esbuild is pinned in package.json, so a build is byte for byte repeatable.

import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../../..");
const entry = path.join(here, "index.js");
const outfile = path.join(here, "..", "editor.js");
const rel = (p) => path.relative(repo, p).split(path.sep).join("/");

const banner = [
  `// GENERATED FILE, do not edit: bundled by esbuild ${esbuild.version} from ${rel(here)}/*.js`,
  `// (entry ${rel(entry)}) with \`npm run build\`. Edit those modules and rebuild;`,
  "// `npm run check` fails when this file is stale. The message protocol is in docs/protocol.md.",
].join("\n");

async function bundle() {
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    target: "es2020",
    charset: "utf8",
    legalComments: "none",
    banner: { js: banner },
    write: false,
    logLevel: "warning",
    absWorkingDir: repo,
  });
  return result.outputFiles[0].text;
}

const text = await bundle();
if (process.argv.includes("--check")) {
  const current = await readFile(outfile, "utf8").catch(() => "");
  if (current !== text) {
    console.error(`${rel(outfile)} is stale: run \`npm run build\` and commit it`);
    process.exit(1);
  }
  console.log(`${rel(outfile)} is up to date`);
} else {
  await writeFile(outfile, text);
  console.log(`wrote ${rel(outfile)} (${text.length} characters)`);
}
