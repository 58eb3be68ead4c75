"""parindex: reproducible reports on Vietnam's provincial PAR INDEX and SIPAS."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("parindex")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"

__all__ = ["__version__"]
