"""``python -m onnxsym.cli`` runs the command line."""
from . import main

main()
