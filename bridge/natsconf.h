/*
 * natsconf.h
 *		`plugin-storage-bridge nats-config`: nats-server isolation config.
 */
#ifndef BRIDGE_NATSCONF_H
#define BRIDGE_NATSCONF_H

extern int natsconf_main(int argc, char **argv);

#endif
