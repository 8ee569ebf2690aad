// Validates Prometheus Operator resources against the schemas of their CRDs, as compiled by
// @kubernetes-models/prometheus-operator. Usage: node validate_crds.mjs NODE_MODULES < documents.json
// (a JSON array of resources); prints a JSON array with one error message, or null, per resource.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const modules = process.argv[2];
const documents = JSON.parse(readFileSync(0, "utf8"));
const results = [];
for (const doc of documents) {
  const [group, version] = doc.apiVersion.split("/");
  const file = join(modules, "@kubernetes-models", "prometheus-operator", group, version, `${doc.kind}.js`);
  const model = await import(pathToFileURL(file).href);
  try {
    new model[doc.kind](doc).validate();
    results.push(null);
  } catch (error) {
    results.push(String(error.message));
  }
}
process.stdout.write(JSON.stringify(results));
