# env.sh - sourced by the tests of tests/mpi/: how their ranks run on one machine.
# Every rank gets one POCL thread (the ranks share the cores); as root (CI) Open MPI must
# be told it may run; the TCP transport, without Open MPI's warnings about the others.
export POCL_MAX_PTHREAD_COUNT=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_base_warn_component_unused=0
# Under the sanitizers: Open MPI keeps allocations past MPI_Finalize in components it
# has unloaded by then, which LeakSanitizer cannot name (so no suppression matches):
# leaks are not checked in these processes; memory errors and UB still are.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failed=0
