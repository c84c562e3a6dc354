/* op_list.h - the registry: one CLNET_OP(name) line per op; each names a
 * `const clnet__op_desc clnet__op_<name>` defined in src/ops/. No include guard:
 * it is expanded with different CLNET_OP definitions. */
CLNET_OP(relu)
CLNET_OP(relu6)
