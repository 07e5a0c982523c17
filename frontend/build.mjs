// Builds static/js/rum.min.js from rum.js, and rum.min.js.LICENSES.txt with the licence of every
// package the bundle contains. `make rum` runs it; `node build.mjs <dir>` writes into <dir> instead
// (tests/rum checks that such a rebuild is byte-identical to the committed files).
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(process.argv[2] || path.join(here, "..", "static", "js"));
const BUNDLE = "rum.min.js";

const started = process.hrtime.bigint();
const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: ["rum.js"],
  bundle: true,
  minify: true,
  format: "iife",
  platform: "browser",
  target: ["es2022"],
  charset: "utf8",
  legalComments: "none",
  banner: { js: `/*! jiwoo browser telemetry: OpenTelemetry JS and its dependencies; licences in ${BUNDLE}.LICENSES.txt */` },
  metafile: true,
  write: false,
  outfile: path.join(outdir, BUNDLE),
  logLevel: "warning",
});

// The packages the bundle holds: every node_modules/<package>/ that an input file came from.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/^(.*node_modules\/((?:@[^/]+\/)?[^/]+))\//);
  if (match && !packages.has(match[2])) {
    packages.set(match[2], path.join(here, match[1]));
  }
}

function licenceText(directory) {
  const file = readdirSync(directory)
    .filter((name) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(name))
    .sort()[0];
  return file ? readFileSync(path.join(directory, file), "utf8").trim() : null;
}

// One copy of each distinct licence text, headed by the packages (and versions) it covers.
const byText = new Map();
for (const name of [...packages.keys()].sort()) {
  const directory = packages.get(name);
  const manifest = JSON.parse(readFileSync(path.join(directory, "package.json"), "utf8"));
  const text = licenceText(directory) || `${manifest.license} (the package ships no licence file)`;
  if (!byText.has(text)) {
    byText.set(text, []);
  }
  byText.get(text).push(`${manifest.name}@${manifest.version} (${manifest.license})`);
}
const rule = "=".repeat(78);
const licences =
  `${BUNDLE} is built by esbuild from frontend/rum.js (jiwoo's own code) and these packages, ` +
  `whose licences follow.\n` +
  [...byText].map(([text, names]) => `\n${rule}\n${names.join("\n")}\n${rule}\n\n${text}\n`).join("");

mkdirSync(outdir, { recursive: true });
const [bundle] = result.outputFiles;
writeFileSync(path.join(outdir, BUNDLE), bundle.contents);
writeFileSync(path.join(outdir, `${BUNDLE}.LICENSES.txt`), licences);
const milliseconds = Number(process.hrtime.bigint() - started) / 1e6;
console.log(`${path.join(outdir, BUNDLE)}: ${bundle.contents.length} bytes, ${packages.size} packages, ${milliseconds.toFixed(0)} ms`);
