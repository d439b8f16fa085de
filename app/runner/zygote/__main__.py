import sys

from app.runner.zygote.fork_server import main

sys.exit(main(sys.argv[1:]))
