# clnetConfig.cmake - find_package(clnet) of an installed clnet: the clnet::clnet target
# (the shared library and include/clnet.h with clnet_export.h).
include("${CMAKE_CURRENT_LIST_DIR}/clnetTargets.cmake")
