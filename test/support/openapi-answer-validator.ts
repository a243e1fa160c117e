import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** What the validator reads of an answer (supertest's response has all of it). */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  text?: string;
}

type JsonObject = Record<string, unknown>;

/** Headers of API.md that an answer may carry only where the document says so. */
const CONTRACT_HEADERS = ['x-log-position', 'retry-after'];
/** Served by the framework for people, not part of the contract. */
const UNDOCUMENTED_PATHS = new Set(['/docs', '/docs-json', '/docs-yaml']);

interface PathTemplate {
  path: string;
  pattern: RegExp;
  parameters: number;
}

/**
 * Checks an HTTP answer against the OpenAPI document the service serves: the status must be listed
 * for the operation, the media type documented, the body valid against the response schema (closed
 * shapes refuse unknown members; problem answers only the listed codes), and the documented headers
 * present. Uses ajv's JSON Schema 2020-12 dialect, the dialect of OpenAPI 3.1, on the document's own
 * schemas, so nothing is translated.
 */
export class OpenApiAnswerValidator {
  private readonly ajv: Ajv2020;
  private readonly templates: PathTemplate[];
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(private readonly document: JsonObject) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addFormat('binary', true);
    this.ajv.addSchema(document, 'openapi.json');
    this.templates = Object.keys(document['paths'] as JsonObject)
      .map((path) => {
        const parameters = (path.match(/\{[^}]+\}/g) ?? []).length;
        const pattern = new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{[^}]+\\?\}/g, '[^/]+')}$`);
        return { path, pattern, parameters };
      })
      .sort((a, b) => a.parameters - b.parameters);
  }

  /** Every way the answer departs from the document; empty when it conforms. */
  check(method: string, url: string, answer: Answer): string[] {
    const pathname = new URL(url, 'http://service.invalid').pathname;
    if (UNDOCUMENTED_PATHS.has(pathname)) return [];
    const where = `${method.toUpperCase()} ${pathname} → ${answer.status}`;
    const template = this.templates.find((candidate) => candidate.pattern.test(pathname));
    // HEAD is the GET without its body (HTTP semantics; Express answers it through the GET route).
    const isHead = method.toLowerCase() === 'head';
    const documentedMethod = isHead ? 'get' : method;
    const operation = template ? this.operationAt(template.path, documentedMethod) : undefined;
    if (!template || !operation) {
      // Unknown routes and methods: the framework's refusal, which must still be a problem document.
      if (answer.status === 404 || answer.status === 405) return this.checkBody(where, '#/components/schemas/Problem', answer);
      return [`${where}: no operation ${method.toUpperCase()} ${pathname} in the document`];
    }
    const responses = operation['responses'] as Record<string, JsonObject>;
    const response = responses[String(answer.status)];
    if (!response) return [`${where}: status ${answer.status} is not documented (documented: ${Object.keys(responses).join(', ')})`];
    const pointer = `/paths/${escape(template.path)}/${documentedMethod.toLowerCase()}/responses/${answer.status}`;
    const headers = this.checkHeaders(where, response, answer);
    return isHead ? headers : [...headers, ...this.checkContent(where, pointer, response, answer)];
  }

  private operationAt(path: string, method: string): JsonObject | undefined {
    const item = (this.document['paths'] as Record<string, JsonObject>)[path];
    return item?.[method.toLowerCase()] as JsonObject | undefined;
  }

  private checkHeaders(where: string, response: JsonObject, answer: Answer): string[] {
    const documented = Object.fromEntries(
      Object.entries((response['headers'] as Record<string, JsonObject> | undefined) ?? {}).map(([name, header]) => [name.toLowerCase(), header]),
    );
    const failures: string[] = [];
    for (const [name, header] of Object.entries(documented)) {
      if (header['required'] === true && answer.headers[name] === undefined) failures.push(`${where}: header ${name} is documented as required but absent`);
    }
    for (const name of CONTRACT_HEADERS) {
      if (answer.headers[name] !== undefined && !documented[name]) failures.push(`${where}: header ${name} is not documented for this answer`);
    }
    return failures;
  }

  private checkContent(where: string, pointer: string, response: JsonObject, answer: Answer): string[] {
    const content = response['content'] as Record<string, JsonObject> | undefined;
    const contentType = String(answer.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const hasBody = (answer.text ?? '').length > 0 || Buffer.isBuffer(answer.body);
    if (!hasBody) return content && Object.keys(content).length > 0 && answer.status !== 204 ? [`${where}: empty body, the document promises ${Object.keys(content).join(', ')}`] : [];
    if (!content || !content[contentType]) {
      return [`${where}: body of type ${contentType || '(none)'} is not documented (documented: ${Object.keys(content ?? {}).join(', ') || 'no body'})`];
    }
    if (!contentType.endsWith('json')) return [];
    return this.checkBody(where, `openapi.json#${pointer}/content/${escape(contentType)}/schema`, answer);
  }

  private checkBody(where: string, schemaRef: string, answer: Answer): string[] {
    const ref = schemaRef.startsWith('#') ? `openapi.json${schemaRef}` : schemaRef;
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    if (validate(answer.body)) return [];
    return (validate.errors ?? []).map((error) => {
      const extra = error.params && 'additionalProperty' in error.params ? ` (${String(error.params['additionalProperty'])})` : '';
      const allowed = error.params && 'allowedValues' in error.params ? ` (${JSON.stringify(error.params['allowedValues'])})` : '';
      return `${where}: body${error.instancePath} ${error.message ?? 'is invalid'}${extra}${allowed}`;
    });
  }
}

/** A JSON pointer token inside a URI fragment. */
function escape(token: string): string {
  return encodeURIComponent(token.replace(/~/g, '~0').replace(/\//g, '~1'));
}

const byDocumentText = new Map<string, OpenApiAnswerValidator>();

/** One validator per distinct document: compiling schemas costs more than checking answers. */
export function validatorFor(documentText: string, adjust?: (document: JsonObject) => JsonObject): OpenApiAnswerValidator {
  if (adjust) return new OpenApiAnswerValidator(adjust(JSON.parse(documentText) as JsonObject));
  let validator = byDocumentText.get(documentText);
  if (!validator) {
    validator = new OpenApiAnswerValidator(JSON.parse(documentText) as JsonObject);
    byDocumentText.set(documentText, validator);
  }
  return validator;
}

/** The methods of a supertest agent, each adding the document check as the request's first assertion. */
export function checkingAnswers<Agent extends object>(agent: Agent, validator: OpenApiAnswerValidator): Agent {
  return new Proxy(agent, {
    get(target, property, receiver) {
      const original = Reflect.get(target, property, receiver) as unknown;
      if (typeof original !== 'function') return original;
      return (url: string) => {
        const test = (original as (url: string) => { expect: (check: (answer: Answer) => void) => unknown }).call(target, url);
        const method = String(property) === 'del' ? 'delete' : String(property);
        return test.expect((answer: Answer) => {
          const failures = validator.check(method, url, answer);
          if (failures.length > 0) throw new Error(`the answer departs from the OpenAPI document:\n${failures.join('\n')}`);
        });
      };
    },
  });
}
