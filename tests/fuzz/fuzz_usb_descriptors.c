/* Fuzzes the parser of a device's raw `descriptors` blob (usbdev.h): a
 * device controls every byte of it.  Whatever parses must stay inside its
 * bounds, and hashing the result must not depend on anything else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mynaguard/usbdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_usb_descriptors d;
	struct mg_usbdev dev;

	if (mg_usb_descriptors_parse(data, size, &d) < 0)
		return 0;
	if (d.n_interfaces > MG_USB_MAX_INTERFACES || (d.configurations == 0 && d.n_interfaces))
		abort();
	memset(&dev, 0, sizeof(dev));
	dev.vendor = d.vendor;
	dev.product = d.product;
	dev.n_interfaces = d.n_interfaces;
	memcpy(dev.interfaces, d.interfaces, sizeof(d.interfaces));
	mg_usbdev_hash(&dev, dev.hash);
	return 0;
}
