//! This chain's measured weights that are not a pallet's: the database's
//! (`benchmarking/storage-weights.sh`, `benchmark storage` over ParityDB, the node's database).

pub mod paritydb_weights;
