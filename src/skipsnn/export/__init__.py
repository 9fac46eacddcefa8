"""Export to neuromorphic hardware and other simulators: NIR (``docs/nir.md``).

`to_nir` / `from_nir` convert an `MMNDNet` to and from a `nir.NIRGraph`; `write_nir` /
`read_nir` store it as HDF5; `export_run` writes the graph of a trained run folder (BPTT
or STDP). ``nir`` itself is imported only by the functions that use it.
"""

from .nir_graph import NIRError, read_nir, to_nir, write_nir
from .nir_import import from_nir
from .run import export_run

__all__ = ["NIRError", "export_run", "from_nir", "read_nir", "to_nir", "write_nir"]
