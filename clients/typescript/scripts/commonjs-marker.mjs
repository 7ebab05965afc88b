// dist/cjs holds the CommonJS build (tsconfig.cjs.json); this package.json makes Node read its .js files as
// CommonJS although the package itself is "type": "module".
import { writeFileSync } from "node:fs";

writeFileSync(new URL("../dist/cjs/package.json", import.meta.url), '{ "type": "commonjs" }\n');
