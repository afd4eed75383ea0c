/** Every generated documentation file: path relative to the repository root -> content. */
import { buildOpenApiDocument } from './openapi.js';
import { renderConfigDoc, renderConfigExample } from './config-doc.js';
import { renderProtocolDoc } from './protocol-doc.js';

export function generateDocs(): Record<string, string> {
  return {
    'docs/protocol.md': renderProtocolDoc(buildOpenApiDocument()),
    'docs/config.md': renderConfigDoc(),
    'config-example.yml': renderConfigExample(),
  };
}
