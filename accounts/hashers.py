from django.contrib.auth.hashers import Argon2PasswordHasher


class RapportArgon2PasswordHasher(Argon2PasswordHasher):
    """Argon2id at OWASP's recommended minimum: 19 MiB of memory, 2 passes, 1 lane.

    Django's defaults (100 MiB, 8 lanes) cost about 215 ms of CPU and 100 MiB per sign-in on our
    2-core servers; a Monday-morning burst of sign-ins then starves every other request. These
    parameters keep Argon2's resistance to GPU cracking at a fraction of the cost. Hashes made
    with other parameters still verify and are upgraded at the next sign-in.
    """

    algorithm = "argon2"
    memory_cost = 19 * 1024
    time_cost = 2
    parallelism = 1
