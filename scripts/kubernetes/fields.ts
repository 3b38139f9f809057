import { join } from 'node:path';
import ts from 'typescript';
import { describe, ROOT, type K8sObject } from './manifests';

/*
 * Unknown fields. The APIs' JSON schemas let any extra field through, so a misspelt one
 * (`terminationGracePeriodSecond`) passes them, and the API server would refuse it (kubectl's
 * strict field validation) or drop it. The same models ship TypeScript interfaces of every field,
 * so each object is type-checked as an object literal of its kind's interface: TypeScript's excess
 * property check names a field the API does not have, at any depth (the first of each object: after
 * that one is fixed, the next shows).
 */

/** Where each API group's models live. */
const MODULES: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

/** TypeScript's "Object literal may only specify known properties" (2353), and its "Did you mean" form (2561). */
const EXCESS_PROPERTY = new Set([2353, 2561]);

export function checkUnknownFields(objects: readonly K8sObject[]): string[] {
  const file = join(ROOT, 'deploy-check-fields.ts'); // never written: served to the compiler from memory
  const lines: string[] = [];
  const spans: { from: number; to: number; obj: K8sObject }[] = [];
  objects.forEach((obj, i) => {
    const module = MODULES[obj.apiVersion];
    if (!module) return; // checkSchemas names a kind it has no schema for
    lines.push(`import type { I${obj.kind} as T${i} } from '${module}/${obj.kind}';`);
  });
  objects.forEach((obj, i) => {
    if (!MODULES[obj.apiVersion]) return;
    const from = lines.length;
    lines.push(...`export const o${i}: T${i} = ${JSON.stringify(obj, null, 1)};`.split('\n'));
    spans.push({ from, to: lines.length, obj });
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true);
  host.getSourceFile = (name, ...rest) => (name === file ? sourceFile : read(name, ...rest));
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === sourceFile && EXCESS_PROPERTY.has(d.code) && d.start !== undefined)
    .map((d) => {
      const line = sourceFile.getLineAndCharacterOfPosition(d.start!).line;
      const owner = spans.find((s) => line >= s.from && line < s.to)?.obj;
      const path = fieldPath(sourceFile, d.start!);
      return `${owner ? describe(owner) : 'an object'}: unknown field ${path ?? ts.flattenDiagnosticMessageText(d.messageText, ' ')}, which its API does not have`;
    });
}

/** "spec.template.spec.containers[0].name" of the property whose name starts at `pos`. */
function fieldPath(sf: ts.SourceFile, pos: number): string | undefined {
  let found: ts.PropertyAssignment | undefined;
  const visit = (n: ts.Node): void => {
    if (pos < n.getStart(sf) || pos >= n.getEnd()) return;
    if (ts.isPropertyAssignment(n) && n.name.getStart(sf) === pos) found = n;
    else ts.forEachChild(n, visit);
  };
  visit(sf);
  if (!found) return undefined;
  let path = '';
  for (let n: ts.Node = found; !ts.isVariableDeclaration(n); n = n.parent) {
    if (ts.isPropertyAssignment(n)) path = `.${(n.name as ts.StringLiteral).text}${path}`;
    else if (ts.isArrayLiteralExpression(n.parent)) path = `[${n.parent.elements.indexOf(n as ts.Expression)}]${path}`;
  }
  return path.slice(1);
}
