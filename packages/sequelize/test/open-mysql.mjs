// The same as ./open.mjs on MariaDB through Sequelize's "mysql" dialect (mysql2),
// for worker processes that call open(target) with one argument.
import { open as openWith } from "./open.mjs";

export const open = (target) => openWith(target, "mysql");
