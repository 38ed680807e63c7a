package reader

// testMaxMapCount, when above 0, stands for vm.max_map_count in the
// mapping budget (mapBudget). It is set only in binaries built with the
// build tag mmstats_testhooks (testhooks_on.go), from the environment,
// so that end-to-end tests can run a tool past its mappings with a few
// thousand files whatever the machine's limit; the tools as built for
// users never read that variable.
var testMaxMapCount int64
