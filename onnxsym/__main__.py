"""``python -m onnxsym`` runs the command line."""
from .cli import main

main()
