// api-smart-diff (npm) as a command, for the benchmark: node smart_diff.cjs OLD.json NEW.json
// Prints {"changes": N, "breaking": N}; exits 1 when a change is classified breaking.
const { apiCompare } = require("api-smart-diff");
const fs = require("fs");

const [before, after] = process.argv.slice(2).map((p) => JSON.parse(fs.readFileSync(p, "utf8")));
const { diffs } = apiCompare(before, after);
const breaking = diffs.filter((d) => d.type === "breaking").length;
console.log(JSON.stringify({ changes: diffs.length, breaking }));
process.exit(breaking ? 1 : 0);
