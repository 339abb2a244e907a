// Compiles a TypeSpec project with the pinned toolchain (package.json beside generator/) and
// prints one JSON object on stdout for generator/typespec.py:
//
//   {compiler, diagnostics: [{severity, code, message, file, line, column}],
//    documents: [{service, version, member, document, diagnostics, sources}], files,
//    timings: {compile_ms, emit_ms}}
//
// `sources` maps JSON pointers of the emitted OpenAPI document (schemas, their properties,
// operations) to the .tsp declaration they come from, so that a problem found in the OpenAPI
// can be reported at its TypeSpec source. Documents are OpenAPI 3.1, one per version of the
// service's @versioned enum (one for an unversioned service), kept in memory: nothing is
// written. The project's tspconfig.yaml is read as `tsp compile` reads it (emitter options for
// @typespec/openapi3 apply, but for those about output files). Usage:
//   node typespec_compile.mjs <main.tsp>
import { statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";

import {
  compile,
  resolveCompilerOptions,
  getNamespaceFullName,
  getSourceLocation,
  NodeHost,
  navigateProgram,
} from "@typespec/compiler";
import { getAllHttpServices } from "@typespec/http";
import { getOpenAPITypeName } from "@typespec/openapi";
import { $lib as openapi3Library, getOpenAPI3 } from "@typespec/openapi3";
import { getVersions } from "@typespec/versioning";

const toolchainModules = join(dirname(dirname(fileURLToPath(import.meta.url))), "node_modules");
const compilerVersion = JSON.parse(
  await NodeHost.readFile(join(toolchainModules, "@typespec", "compiler", "package.json")).then(
    (f) => f.text,
  ),
).version;

// The compiler resolves `import "@typespec/http"` from the project's directory upwards, as
// Node does. A project outside this repository has no such node_modules (or its own, of other
// versions, whose libraries would load a second compiler): every package the toolchain holds
// is always read from the toolchain's node_modules instead; others from where they are.
const pinned = /^(.*)[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/@][^\\/]*)([\\/].*)?$/;
function toToolchain(path) {
  const match = pinned.exec(path);
  if (!match) return path;
  const target = join(toolchainModules, match[2], match[3] ?? "");
  try {
    statSync(join(toolchainModules, match[2]));
  } catch {
    return path; // not one of ours: the project's own library
  }
  return target;
}
const host = {
  ...NodeHost,
  stat: (path) => NodeHost.stat(toToolchain(path)),
  readFile: (path) => NodeHost.readFile(toToolchain(path)),
  realpath: (path) => NodeHost.realpath(toToolchain(path)),
};

function location(target) {
  if (target === undefined || target === null || typeof target === "symbol") return undefined;
  let loc;
  try {
    loc = getSourceLocation(target);
  } catch {
    return undefined;
  }
  if (!loc || !loc.file || loc.isSynthetic) return undefined;
  const { line, character } = loc.file.getLineAndCharacterOfPosition(loc.pos);
  return { file: loc.file.path, line: line + 1, column: character + 1 };
}

function diagnostic(d) {
  return { severity: d.severity, code: String(d.code), message: d.message, ...location(d.target) };
}

function escapeToken(token) {
  return String(token).replaceAll("~", "~0").replaceAll("/", "~1");
}

// OpenAPI pointer -> .tsp location, for the declarations a problem can be pinned on.
function sourceMap(program, service) {
  const sources = {};
  const serviceName = getNamespaceFullName(service.type);
  const nameOptions = { namespaceFilter: (ns) => getNamespaceFullName(ns) !== serviceName };
  const add = (pointer, target) => {
    // At the declaration's name, not at its doc comment or decorators.
    const where = location(target.node?.id ?? target);
    if (where && !(pointer in sources)) sources[pointer] = where;
  };
  add("", service.type);
  const named = (type) => {
    if (!type.name || type.templateMapper || (type.node && type.node.templateParameters?.length))
      return;
    let name;
    try {
      name = getOpenAPITypeName(program, type, nameOptions);
    } catch {
      return;
    }
    const pointer = `/components/schemas/${escapeToken(name)}`;
    add(pointer, type);
    if (type.kind === "Model") {
      for (const [key, property] of type.properties) {
        add(`${pointer}/properties/${escapeToken(key)}`, property);
        // Spread parameter models become components/parameters/<Model>.<property>.
        add(`/components/parameters/${escapeToken(`${name}.${key}`)}`, property);
      }
    }
  };
  navigateProgram(program, { model: named, enum: named, union: named, scalar: named });
  const [httpServices] = getAllHttpServices(program);
  for (const httpService of httpServices) {
    for (const operation of httpService.operations) {
      const opPointer = `/paths/${escapeToken(operation.path)}/${operation.verb}`;
      add(opPointer, operation.operation);
      if (operation.parameters.body?.property) {
        add(`${opPointer}/requestBody`, operation.parameters.body.property);
      }
    }
  }
  return sources;
}

// Only the pointers that exist in this version's document.
function present(sources, document) {
  const kept = {};
  for (const [pointer, where] of Object.entries(sources)) {
    let value = document;
    for (const token of pointer.split("/").slice(1)) {
      const key = token.replaceAll("~1", "/").replaceAll("~0", "~");
      value = value !== null && typeof value === "object" ? value[key] : undefined;
      if (value === undefined) break;
    }
    if (value !== undefined) kept[pointer] = where;
  }
  return kept;
}

// The project's own .tsp files (not the libraries'): what the generated headers' hash covers.
function projectFiles(program) {
  return [...program.sourceFiles.keys()].filter((path) => !/[\\/]node_modules[\\/]/.test(path));
}

function versionMembers(program, service) {
  const [, map] = getVersions(program, service.type);
  const members = {};
  for (const version of map?.getVersions() ?? []) members[version.value] = version.name;
  return members;
}

// The emitter options a project's tspconfig.yaml gives @typespec/openapi3, less those about
// files: the documents stay in memory, and are always OpenAPI 3.1.
const fileOptions = ["file-type", "output-file", "new-line", "emitter-output-dir", "openapi-versions"];

async function main() {
  const mainFile = resolve(process.argv[2]);
  const started = performance.now();
  // tspconfig.yaml (found from the project's directory up, as `tsp compile` does): linter
  // rules, warn-as-error, the openapi3 emitter's options. No emitter runs: `emit` is emptied.
  const [options, resolveDiagnostics] = await resolveCompilerOptions(host, {
    entrypoint: mainFile,
    cwd: dirname(mainFile),
  });
  const configDiagnostics = [...resolveDiagnostics];
  const program = await compile(host, mainFile, { ...options, emit: [], noEmit: true });
  const compiled = performance.now();
  const emitterOptions = { ...(options.options?.["@typespec/openapi3"] ?? {}) };
  // Checked as `tsp compile` checks them, at their place in tspconfig.yaml.
  const emitterDiagnostics =
    openapi3Library.emitterOptionValidator?.validate(
      emitterOptions,
      options.configFile?.file
        ? { kind: "path-target", path: ["options", "@typespec/openapi3"], script: options.configFile.file }
        : undefined,
    ) ?? [];
  configDiagnostics.push(...emitterDiagnostics);
  for (const name of fileOptions) delete emitterOptions[name];
  const result = {
    compiler: compilerVersion,
    diagnostics: [...configDiagnostics, ...program.diagnostics].map(diagnostic),
    documents: [],
    files: projectFiles(program),
    timings: { compile_ms: compiled - started, emit_ms: 0 },
  };
  if (!program.hasError() && !configDiagnostics.some((d) => d.severity === "error")) {
    const records = await getOpenAPI3(program, {
      ...emitterOptions,
      "openapi-versions": ["3.1.0"],
    });
    for (const record of records) {
      const service = getNamespaceFullName(record.service.type);
      const sources = sourceMap(program, record.service);
      const members = versionMembers(program, record.service);
      const versions = record.versioned
        ? record.versions
        : [{ document: record.document, version: null, diagnostics: record.diagnostics }];
      for (const entry of versions) {
        result.documents.push({
          service,
          version: entry.version ?? null,
          member: entry.version ? (members[entry.version] ?? null) : null,
          document: entry.document,
          diagnostics: entry.diagnostics.map(diagnostic),
          sources: present(sources, entry.document),
        });
      }
    }
    result.timings.emit_ms = performance.now() - compiled;
  }
  process.stdout.write(JSON.stringify(result));
}

await main();
