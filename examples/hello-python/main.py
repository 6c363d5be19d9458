import os
import platform
import sys

print("Hello from runbox!")
print(f"Python {platform.python_version()} on {platform.system()} {platform.machine()}")
print(f"working directory: {os.getcwd()}")
print(f"files here: {', '.join(sorted(os.listdir('.')))}")
print(f"user id inside the sandbox: {os.getuid()}")
sys.exit(0)
