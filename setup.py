"""Packaging for the RPyMostat suite.

One distribution, several hosts: the extras decide which daemon a host can run,
so a Raspberry Pi Zero that only reads sensors never installs Klein or a
MongoDB driver.  The base install holds what every daemon shares: Twisted for
the event loop and python-zeroconf for finding the engine.
"""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = {}
exec((HERE / "rpymostat" / "version.py").read_text(), VERSION)

BASE = [
    "twisted>=25.5",  # Site(parsePOSTFormSubmission=False): rpymostat.protocol.jsonsite
    "zeroconf>=0.131",
    "ifaddr>=0.2",
]

EXTRAS = {
    "engine": [
        "klein>=23.12",
        "jsonschema>=4.18",
        "fastjsonschema>=2.19",
        "referencing>=0.30",
        "txmongo>=23.0",
        "pymongo>=4.0",
        "tzlocal>=5.0",
        "croniter>=2.0",
        "aniso8601>=9.0",
    ],
    "sensor": [
        "w1thermsensor>=2.0",
    ],
    "control": [
        "phidget22>=1.19",
        "gpiozero>=2.0",
    ],
    # TLS to the engine (RPYMOSTAT_LISTEN=ssl:..., daemons pinning its certificate): pyOpenSSL.
    "tls": [
        "twisted[tls]>=25.5",
    ],
    # The web UI is served by Twisted's WSGI container (base install); urllib3 is its
    # blocking engine client for Flask's request threads.
    "webui": [
        "flask>=3.0",
        "urllib3>=2.0",
    ],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="rpymostat",
    version=VERSION["__version__"],
    description="An open, modular, intelligent home thermostat",
    long_description=(HERE / "README.rst").read_text(),
    long_description_content_type="text/x-rst",
    license="AGPL-3.0-or-later",
    url="https://github.com/jantman/RPyMostat",
    packages=find_packages(include=["rpymostat*"]),
    package_data={
        "rpymostat.api": ["*.json", "*.html"],
        "rpymostat.storage": ["schema/*.sql"],
        "rpymostat_webui": [
            "templates/*.html",
            "static/css/*.css",
            "static/js/*.js",
            "static/img/*.svg",
            "static/vendor/VERSIONS",
            "static/vendor/*/*",
        ],
    },
    python_requires=">=3.11",
    install_requires=BASE,
    extras_require=EXTRAS,
    entry_points={
        "rpymostat.decision": [
            "hysteresis = rpymostat.decide.hysteresis:Hysteresis",
        ],
        "rpymostat.schedule": [
            "rules = rpymostat.schedule.rules_plugin:RulesSchedule",
        ],
        "rpymostat.relays": [
            "sim = rpymostat_control.relays.sim:SimRelays",
            "gpio = rpymostat_control.relays.gpio:GpioRelays",
            "phidget22 = rpymostat_control.relays.phidget:PhidgetRelays",
        ],
        "rpymostat.sensors": [
            "w1 = rpymostat_sensor.readers.w1:W1Reader",
            "owfs = rpymostat_sensor.readers.owfs:OwfsReader",
            "sim = rpymostat_sensor.readers.sim:SimReader",
        ],
        "console_scripts": [
            "rpymostat-engine = rpymostat.runner:main",
            "rpymostat-sensor = rpymostat_sensor.__main__:main",
            "rpymostat-control = rpymostat_control.__main__:main",
            "rpymostat-webui = rpymostat_webui.__main__:main",
        ],
    },
    classifiers=[
        "Development Status :: 3 - Alpha",
        "Framework :: Twisted",
        "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "Topic :: Home Automation",
    ],
)
