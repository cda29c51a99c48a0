// Installs what is missing (pnpm at the pinned version, the locked dependencies).
import { bootstrap } from './lib.mjs';

bootstrap();
